/**
 * Base of every feature's typed error. Each feature maps its own codes to an HTTP status
 * in one exhaustive switch; the global filter only asks for the result.
 */
export abstract class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }

  abstract get httpStatus(): number;

  /** Seconds a client should wait before trying again, for 429 and 503 answers. */
  get retryAfterSeconds(): number | undefined {
    return undefined;
  }
}
