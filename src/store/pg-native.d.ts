/** The part of pg-native (the native driver of the `pg` package, over libpq) the store uses. */
declare module 'pg-native' {
  interface TypeParsers {
    getTypeParser(oid: number, format?: string): (value: string) => unknown;
  }
  /** node-libpq's handle, which pg-native exposes (the `pg` package reads it too). */
  interface Libpq {
    /** Rows the last command affected (PQcmdTuples), as text; '' for commands without a count. */
    cmdTuples(): string;
    /** PQtransactionStatus: 0 idle, 1 active, 2 in a transaction, 3 in a failed one, 4 connection bad. */
    transactionStatus(): number;
  }
  class Client {
    constructor(config?: { types?: TypeParsers; arrayMode?: boolean });
    readonly pq: Libpq;
    connectSync(params?: string): void;
    querySync(text: string, values?: Array<string | null>): Array<Record<string, unknown>>;
    end(callback?: () => void): void;
  }
  export default Client;
}
