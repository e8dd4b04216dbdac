/** The bot's one back-off (src/retry.ts), for the adapters, which see only src/chat. */
export { backoffDelay, retry } from '../retry.js';
