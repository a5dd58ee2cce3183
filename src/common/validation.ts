import { BadRequestException, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';

/** Far deeper than any request this API accepts (3 levels), far shallower than what overflows the stack. */
export const MAX_INPUT_DEPTH = 32;

/** The one validation pipe of the API: unknown fields are refused, messages name the field. */
export function createValidationPipe(): ValidationPipe {
  return new StructureCheckedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(flattenValidationErrors(errors).join('; ')),
  });
}

/**
 * Refuses, before class-transformer sees them, the inputs it mishandles: nesting thousands of
 * levels deep (its recursion overflows the stack, a 500) and keys named after Object.prototype
 * members or "prototype" (it, or Nest's prototype-pollution guard, drops them silently, so they
 * escaped the unknown-field check and a custom header of that name would vanish).
 */
class StructureCheckedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const problem = structureProblem(value);
    if (problem !== undefined) throw new BadRequestException(problem);
    return super.transform(value, metadata);
  }
}

function structureProblem(input: unknown): string | undefined {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value: input, path: '', depth: 0 }];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_INPUT_DEPTH) return `request input is nested deeper than ${MAX_INPUT_DEPTH} levels`;
    for (const [key, child] of Object.entries(value)) {
      const childPath = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!Array.isArray(value) && (key in Object.prototype || key === 'prototype')) return `property ${childPath} should not exist`;
      pending.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
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
