/** The slice of pino the domain logs through, so it can be tested with a plain recorder. */
export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
