import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

/** The one validation pipe of the API: unknown fields are refused, messages name the field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(flattenValidationErrors(errors).join('; ')),
  });
}

function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    // class-validator names the bare property; the client needs its full path (data.value).
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message
        .replace(new RegExp(`^${escapeRegExp(error.property)}\\b`), path)
        .replace(new RegExp(`^property ${escapeRegExp(error.property)} `), `property ${path} `),
    );
    return [...own, ...flattenValidationErrors(error.children ?? [], path)];
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
