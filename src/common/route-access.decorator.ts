import { applyDecorators, HttpStatus, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ApiErrorResponses } from './api-errors.js';

/** Who may call a route. Anything not marked `public` needs a key, whether it is marked or not. */
export type RouteAccess = 'public' | 'api-key';

const ROUTE_ACCESS = Symbol('route-access');

/**
 * A route anyone may call without a key (probes and metrics). The guard denies by default, so
 * this decorator is the only way to open a route; keep the list short and documented.
 */
export function PublicRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(ROUTE_ACCESS, 'public' satisfies RouteAccess);
}

/**
 * A route that needs `Authorization: Bearer <key>`. The guard would demand the key without it;
 * the decorator exists so the OpenAPI document states the scheme and the 401 answer.
 */
export function Authenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(ROUTE_ACCESS, 'api-key' satisfies RouteAccess), ApiBearerAuth(), ApiErrorResponses(HttpStatus.UNAUTHORIZED));
}

/** The handler's marking overrides its controller's. */
export function isPublicRoute(reflector: Reflector, context: ExecutionContext): boolean {
  return reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]) === 'public';
}
