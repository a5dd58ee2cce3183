import safeRegex from 'safe-regex2';

/**
 * `success_body`: what a 2xx must contain to count as accepted, for receivers (trackers, affiliate
 * networks) that answer 200 with an error in the body. A plain string is a substring to find; one
 * written `^…$` is an anchored regular expression, refused at save unless safe-regex2 judges it
 * free of catastrophic backtracking (the receiver controls the text it runs on).
 */
export const MAX_SUCCESS_BODY_LENGTH = 200;

export type SuccessBodyMatcher = (body: string) => boolean;

export class SuccessBodyError extends Error {
  override readonly name = 'SuccessBodyError';
}

export function isAnchoredPattern(successBody: string): boolean {
  return successBody.length >= 2 && successBody.startsWith('^') && successBody.endsWith('$');
}

/** Builds the matcher; throws SuccessBodyError naming the problem. */
export function successBodyMatcher(successBody: string): SuccessBodyMatcher {
  if (successBody.length === 0 || successBody.length > MAX_SUCCESS_BODY_LENGTH) {
    throw new SuccessBodyError(`success_body must be 1-${MAX_SUCCESS_BODY_LENGTH} characters`);
  }
  if (!isAnchoredPattern(successBody)) return (body) => body.includes(successBody);
  let pattern: RegExp;
  try {
    pattern = new RegExp(successBody, 'u');
  } catch (error) {
    throw new SuccessBodyError(`success_body is not a valid regular expression: ${(error as Error).message}`);
  }
  if (!safeRegex(pattern)) throw new SuccessBodyError('success_body: this regular expression could take exponential time on some inputs; simplify it (no nested repetition)');
  return (body) => pattern.test(body);
}
