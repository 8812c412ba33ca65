/**
 * API errors are values carrying a Tencent Cloud error code. Handlers throw
 * `ApiError`; the HTTP front turns it into the Tencent error envelope. Anything
 * else that escapes a handler becomes `InternalError` without leaking a stack.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const fail = (code: string, message: string): never => {
  throw new ApiError(code, message);
};

// Shorthands for the codes used everywhere; resource-specific codes are spelled
// out at their call sites so the code name reads as in Tencent's documentation.
export const missingParameter = (name: string) =>
  new ApiError('MissingParameter', `The request is missing a required parameter \`${name}\`.`);
export const unknownParameter = (name: string) =>
  new ApiError('UnknownParameter', `The parameter \`${name}\` is not recognized.`);
export const invalidParameter = (name: string, why: string) =>
  new ApiError('InvalidParameter', `The parameter \`${name}\` is invalid: ${why}.`);
export const invalidValue = (name: string, why: string, code = 'InvalidParameterValue') =>
  new ApiError(code, `The value of parameter \`${name}\` is invalid: ${why}.`);
export const notFound = (code: string, id: string, what: string) =>
  new ApiError(code, `The ${what} \`${id}\` does not exist.`);
