/**
 * The answer to one slash command (or button click). Discord wants an acknowledgement within 3 s: a quick answer is
 * sent as the reply itself; a slow one is deferred first ("bbwatch is thinking…") and edited in
 * later. A private answer (a refusal) is ephemeral, seen only by the user who asked. Calls are
 * serialised, so a deferral and the answer never race.
 */
import {
  type BaseMessageOptions,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  MessageFlags,
} from 'discord.js';

export class PendingReply {
  private state: 'new' | 'deferred' | 'answered' = 'new';
  private queue: Promise<unknown> = Promise.resolve();

  /** A slash command, or a click on one of the bot's buttons (answered the same way). */
  constructor(private readonly interaction: ChatInputCommandInteraction | ButtonInteraction) {}

  get answered(): boolean {
    return this.state === 'answered';
  }

  /** Acknowledges without an answer yet; the answer may then take up to 15 minutes. */
  defer(): Promise<void> {
    return this.serial(async () => {
      if (this.state !== 'new') return;
      await this.interaction.deferReply();
      this.state = 'deferred';
    });
  }

  answer(payload: BaseMessageOptions, ephemeral: boolean): Promise<void> {
    return this.serial(async () => {
      const flags = ephemeral ? { flags: MessageFlags.Ephemeral as const } : {};
      if (this.state === 'new') {
        await this.interaction.reply({ ...payload, ...flags });
      } else if (this.state === 'deferred' && !ephemeral) {
        await this.interaction.editReply(payload);
      } else if (this.state === 'deferred') {
        // A public deferral cannot turn ephemeral: remove it and answer the user alone.
        await this.interaction.deleteReply();
        await this.interaction.followUp({ ...payload, ...flags });
      } else {
        await this.interaction.followUp({ ...payload, ...flags });
      }
      this.state = 'answered';
    });
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
