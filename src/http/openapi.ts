// GET /api/openapi.json: an OpenAPI 3.1 description of every /api route, generated with zod-to-openapi from the
// same zod schemas that validate the requests (src/http/api-schemas.ts), with the one error shape and every error
// code of the one status table (src/http/error-status.ts). test/http/openapi.test.ts checks that every route the
// routers have is described here and that the document is valid OpenAPI 3.1.
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { BINDING_ORIGINS, BINDING_STATES } from '../storage/types.js';
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../storage/webhooks.js';
import {
  ConnectStoreBody,
  GraphqlBody,
  HealthQuery,
  CreateAccountBody,
  CreateApiKeyBody,
  CreateWebhookBody,
  ListAccountsQuery,
  ListDeliveriesQuery,
  OperatorStoresQuery,
} from './api-schemas.js';
import { ERROR_STATUS } from './error-status.js';

const ERROR_CODES = Object.keys(ERROR_STATUS) as [string, ...string[]];

const ErrorBody = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES).describe('Stable, machine-readable; also in the X-Connector-Error header. The status for each code: x-error-status.'),
    message: z.string().describe('What went wrong and what to do, for a person.'),
  }),
});

const Store = z.object({
  id: z.string(),
  accountId: z.string().nullable(),
  state: z.enum(BINDING_STATES),
  storeBaseUrl: z.string(),
  consumerKey: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  activatedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  reauthorizing: z.boolean(),
  lastError: z.object({ message: z.string(), at: z.string().nullable(), fix: z.string().nullable() }).nullable(),
  origin: z.enum(BINDING_ORIGINS).describe('callback: activated from the Magento admin; credentials: connected with pasted credentials (becomes callback once the store is activated from the Magento admin)'),
  probeWarning: z
    .object({ message: z.string(), at: z.string().nullable() })
    .nullable()
    .describe("The last revocation probe's warning (a 5xx, a timeout, a TLS error: the store stays active), until a probe succeeds"),
  unavailable: z
    .object({ since: z.string(), reason: z.string().nullable() })
    .nullable()
    .describe('Marked unavailable for every instance (store.unavailable); null while available'),
});
const Next = z.string().nullable().describe('Pass as ?after= for the next page; null on the last page');
const Account = z.object({
  id: z.string(),
  email: z.string(),
  externalId: z.string().nullable(),
  createdAt: z.string(),
  callbackUrl: z.string().describe("The account's own Callback URL, PUBLIC_URL/magento/callback/<token> (issue 13)"),
  identityLinkUrl: z.string().describe("The account's own Identity Link URL, PUBLIC_URL/magento/identity/<token>"),
});
const Webhook = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).nullable(),
  status: z.enum(['active', 'failing']),
  failingSince: z.string().nullable(),
  createdAt: z.string(),
});
const Delivery = z.object({
  id: z.string(),
  eventId: z.string(),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  storeId: z.string(),
  sequence: z.number().int(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
});

const id = z.object({ id: z.string() });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = { default: json(ErrorBody, 'An error: the status follows from error.code (x-error-status)') };
const bearer = [{ bearer: [] }];

/** Every /api route: [method, OpenAPI path, config]. */
function routes(): RouteConfig[] {
  const op = (method: RouteConfig['method'], path: string, c: Omit<RouteConfig, 'method' | 'path'>): RouteConfig => ({
    method,
    path,
    security: bearer,
    ...c,
    responses: { ...c.responses, ...errors },
  });
  const proxy = (['get', 'post', 'put', 'patch', 'delete'] as const).map((method) =>
    op(method, '/api/stores/{id}/rest/{path}', {
      summary: `${method.toUpperCase()} {store_base_url}rest/{path}, OAuth-signed for the store`,
      request: { params: z.object({ id: z.string(), path: z.string().describe("Magento's REST path, e.g. V1/products") }) },
      responses: { 200: { description: "Magento's answer, status and body as the store sent them" } },
    }),
  );
  return [
    { method: 'get', path: '/api/openapi.json', summary: 'This document (no authentication)', responses: { 200: { description: 'OpenAPI 3.1' } } },
    op('get', '/api/stores', {
      summary: "The account's stores (an operator: every store or ?accountId='s, in creation order, a page at a time)",
      request: { query: OperatorStoresQuery },
      responses: { 200: json(z.object({ stores: z.array(Store), next: Next.optional() }), 'The stores (for an operator, a page of them)') },
    }),
    op('get', '/api/stores/{id}', { summary: 'One store', request: { params: id }, responses: { 200: json(Store, 'The store') } }),
    op('delete', '/api/stores/{id}', { summary: 'Forget the store and its tokens (emits store.deleted)', request: { params: id }, responses: { 204: { description: 'Deleted' } } }),
    op('get', '/api/stores/{id}/health', {
      summary: 'The store doctor: each check with its status, what was seen and the fix (cached 5 minutes)',
      request: { params: id, query: HealthQuery },
      responses: {
        200: json(
          z.object({
            storeId: z.string(),
            checkedAt: z.string(),
            signing: z.object({ profile: z.enum(['laminas', 'laminas-double-encoding', 'native']).nullable(), detectedAt: z.string().nullable() }),
            checks: z.array(z.object({ name: z.string(), status: z.enum(['ok', 'warn', 'fail']), detail: z.string(), fix: z.string().optional() })),
          }),
          'The health report',
        ),
      },
    }),
    op('post', '/api/stores/{id}/graphql', {
      summary: "{store_base_url}graphql, OAuth-signed; Magento's Store header passed through; the answer unchanged",
      request: { params: id, body: { content: { 'application/json': { schema: GraphqlBody } } } },
      responses: { 200: { description: "Magento's answer (GraphQL errors come with 200 and an errors array)" } },
    }),
    ...proxy,
    op('post', '/api/accounts', {
      summary: 'Create an account (operator)',
      request: { body: { content: { 'application/json': { schema: CreateAccountBody } } } },
      responses: { 201: json(Account, 'The account and its two activation URLs') },
    }),
    op('get', '/api/accounts', {
      summary: 'Accounts (operator) in creation order, a page at a time; ?externalId= finds one',
      request: { query: ListAccountsQuery },
      responses: { 200: json(z.object({ accounts: z.array(Account), next: Next }), 'A page of accounts') },
    }),
    op('get', '/api/accounts/{id}', { summary: 'One account (operator), with its own Callback and Identity Link URLs', request: { params: id }, responses: { 200: json(Account, 'The account') } }),
    op('post', '/api/accounts/{id}/activation-urls/rotate', {
      summary: "New activation URLs for the account (operator): the old ones stop accepting new activations; connected stores keep working",
      request: { params: id },
      responses: { 200: json(Account, 'The account with its new URLs') },
    }),
    op('post', '/api/accounts/{id}/api-keys', {
      summary: 'An API key for the account (operator); the key is shown only here',
      request: { params: id, body: { content: { 'application/json': { schema: CreateApiKeyBody } } } },
      responses: { 201: json(z.object({ id: z.string(), name: z.string(), key: z.string() }), 'The key') },
    }),
    op('post', '/api/accounts/{id}/stores', {
      summary:
        "Connect a store with its integration's four credentials (operator): for a store that cannot reach the Callback URL. " +
        'Checked with one signed call first; nothing is stored when they do not work (the error names the value at fault). Emits store.connected.',
      request: { params: id, body: { content: { 'application/json': { schema: ConnectStoreBody } } } },
      responses: {
        201: json(Store, 'The store, active, as GET /api/stores/{id} shows it (Location: /api/stores/{id})'),
        200: json(Store, "The account's store connected this way before took its new access token (Reauthorize in Magento): the same store"),
      },
    }),
    op('post', '/api/webhooks', {
      summary: 'Subscribe to lifecycle events (operator); the signing secret is shown only here',
      request: { body: { content: { 'application/json': { schema: CreateWebhookBody } } } },
      responses: { 201: json(Webhook.extend({ secret: z.string() }), 'The subscription') },
    }),
    op('get', '/api/webhooks', { summary: 'Subscriptions (operator)', responses: { 200: json(z.object({ webhooks: z.array(Webhook) }), 'The subscriptions') } }),
    op('delete', '/api/webhooks/{id}', { summary: 'Delete a subscription and its deliveries (operator)', request: { params: id }, responses: { 204: { description: 'Deleted' } } }),
    op('get', '/api/webhooks/{id}/deliveries', {
      summary: "A subscription's deliveries, newest first (operator)",
      request: { params: id, query: ListDeliveriesQuery },
      responses: { 200: json(z.object({ deliveries: z.array(Delivery) }), 'The deliveries') },
    }),
    op('post', '/api/webhooks/{id}/deliveries/{deliveryId}/retry', {
      summary: 'Send a failed delivery again now, with a fresh retry period (operator)',
      request: { params: z.object({ id: z.string(), deliveryId: z.string() }) },
      responses: { 200: json(Delivery, 'The delivery, due now') },
    }),
  ];
}

let cached: object | undefined;

export function openApiDocument(): object {
  if (cached) return cached;
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An account API key (mck_...) or an operator key (mco_...)' });
  for (const route of routes()) registry.registerPath(route);
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Magento connector API', version: '1' },
  });
  cached = { ...document, 'x-error-status': ERROR_STATUS };
  return cached;
}
