import { applyDecorators, HttpStatus, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import type { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ApiErrorResponses } from './api-errors.js';
import type { ApiScope } from './api-principal.js';

/** Who may call a route. Anything not marked `public` needs a key, whether it is marked or not. */
export type RouteAccess = 'public' | 'api-key';

const ROUTE_ACCESS = Symbol('route-access');
const ROUTE_SCOPE = Symbol('route-scope');
const SERVICE_ONLY = Symbol('service-only');
const CREATES_ACCOUNT = Symbol('creates-account');
const KEYS_ONLY = Symbol('keys-only');

/** The path parameter that makes a route a tenant route: the guard resolves the account it names. */
export const ACCOUNT_ID_PARAM = 'account_id';

/**
 * A route anyone may call without a key (probes and metrics). The guard denies by default, so
 * this decorator is the only way to open a route; keep the list short and documented.
 */
export function PublicRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(ROUTE_ACCESS, 'public' satisfies RouteAccess);
}

/**
 * A route that needs `Authorization: Bearer <key>`. The guard would demand the key without it;
 * the decorator exists so the OpenAPI document states the scheme and the answers of access
 * control: 401 everywhere, 403 everywhere (an account key may lack the route's scope, or the
 * route may need a service key), and 404 on routes under `:account_id` (an unknown account, or
 * one the key does not belong to). It reads the path to tell, so it must sit above `@Controller()`
 * (on a class) or above the route decorator (on a handler, where only the handler's own path is seen).
 */
export function Authenticated(): MethodDecorator & ClassDecorator {
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const path: unknown = Reflect.getMetadata(PATH_METADATA, descriptor ? (descriptor.value as object) : target);
    if (path === undefined) throw new Error('@Authenticated() must be written above @Controller() or the route decorator: it reads the path');
    const paths = (Array.isArray(path) ? path : [path]) as string[];
    const underAccount = paths.some((each) => each.includes(`:${ACCOUNT_ID_PARAM}`));
    const answers = [HttpStatus.UNAUTHORIZED, HttpStatus.FORBIDDEN, ...(underAccount ? [HttpStatus.NOT_FOUND] : [])];
    applyDecorators(SetMetadata(ROUTE_ACCESS, 'api-key' satisfies RouteAccess), ApiBearerAuth(), ApiErrorResponses(...answers))(target, propertyKey, descriptor);
  };
}

/**
 * The scope an account key needs for this route. Without it a tenant route needs `read` for GET
 * (and HEAD) and `manage` for anything else, so only routes that ingest declare theirs:
 * `@RequireScope('ingest')` on POST clicks and POST events. A route with scope `ingest` is also
 * refused (403) while its account is disabled, whatever the key.
 */
export function RequireScope(scope: ApiScope): MethodDecorator & ClassDecorator {
  return SetMetadata(ROUTE_SCOPE, scope);
}

/**
 * A route only service keys (API_KEYS) may call: accounts themselves and their keys. An account key
 * is refused with 403 on its own account, and with 404 on another's, as anywhere else.
 */
export function ServiceOnly(): MethodDecorator & ClassDecorator {
  return SetMetadata(SERVICE_ONLY, true);
}

/**
 * The route creates the account in its path when it does not exist (PUT /v1/accounts/:account_id),
 * so an unknown account is not a 404 there. Service keys only, and an account key gets 403 for
 * every account id, its own or not, existing or not: the answer says nothing about other accounts.
 */
export function CreatesAccount(): MethodDecorator & ClassDecorator {
  return applyDecorators(ServiceOnly(), SetMetadata(CREATES_ACCOUNT, true));
}

/**
 * A route a customer portal session may not call even with the right scopes, only an API key:
 * minting portal links, so a session cannot outlive its own expiry by minting the next one.
 */
export function KeysOnly(): MethodDecorator & ClassDecorator {
  return SetMetadata(KEYS_ONLY, true);
}

/** The handler's marking overrides its controller's. */
export function isPublicRoute(reflector: Reflector, context: ExecutionContext): boolean {
  return reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]) === 'public';
}

/** What access control needs to know of a private route, from its markings and its method. */
export interface RouteRules {
  scope: ApiScope;
  serviceOnly: boolean;
  createsAccount: boolean;
  keysOnly: boolean;
}

export function routeRules(reflector: Reflector, context: ExecutionContext, method: string): RouteRules {
  const targets = [context.getHandler(), context.getClass()];
  const declared = reflector.getAllAndOverride<ApiScope | undefined>(ROUTE_SCOPE, targets);
  return {
    scope: declared ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'manage'),
    serviceOnly: reflector.getAllAndOverride<boolean | undefined>(SERVICE_ONLY, targets) === true,
    createsAccount: reflector.getAllAndOverride<boolean | undefined>(CREATES_ACCOUNT, targets) === true,
    keysOnly: reflector.getAllAndOverride<boolean | undefined>(KEYS_ONLY, targets) === true,
  };
}
