// The zod schemas of the /api routes' inputs, shared by the routes that validate requests with them and by the
// OpenAPI document generated from them (src/http/openapi.ts): what is documented is what is checked.
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../storage/webhooks.js';

// Printable, no spaces at either end: an id a CRM's database hands out.
const ExternalId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u, 'must be 1 to 200 printable characters, without spaces at either end');

export const CreateAccountBody = z.object({ email: z.email().max(254), externalId: ExternalId.nullish() }).strict();
// A page of a list: at most `limit` items (100 by default), after the cursor a previous page gave as `next`.
const PageLimit = z.coerce.number().int().min(1).max(1000).optional().describe('Items per page, 1 to 1000 (100 by default)');
const PageAfter = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be the "next" value of the previous page, as it came')
  .optional()
  .describe('The "next" value of the previous page: the page after it');
export const DEFAULT_PAGE_LIMIT = 100;
export const ListAccountsQuery = z.object({ externalId: ExternalId.optional(), limit: PageLimit, after: PageAfter }).strict();
export const CreateApiKeyBody = z.object({ name: z.string().trim().min(1).max(100) }).strict();

export const OperatorStoresQuery = z.object({ accountId: z.string().min(1).max(200).optional(), limit: PageLimit, after: PageAfter }).strict();

export const CreateWebhookBody = z
  .object({
    url: z.string().min(1).max(2048),
    /** Omitted or null: every event type. */
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length * 2).nullish(),
  })
  .strict();
export const ListDeliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }).strict();

/** GET /api/stores/:id/health: ?refresh=true runs the checks now instead of answering from the cache. */
export const HealthQuery = z.object({ refresh: z.enum(['true', 'false']).optional() });

/** POST /api/stores/:id/graphql: Magento's GraphQL request, passed through as sent. */
export const GraphqlBody = z.object({ query: z.string(), variables: z.record(z.string(), z.unknown()).optional(), operationName: z.string().optional() });

/**
 * POST /api/accounts/:id/stores: connect a store with its integration's four credentials (Magento's Integration
 * Details), for a store that cannot reach the Callback URL. Their shapes are checked by the domain
 * (src/activation/credentials.ts: 32 lower-case letters and digits each; the store URL by the callback's rules), so a
 * 400 names the field either way.
 */
const Pasted = (description: string) => z.string().max(300).describe(description);
export const ConnectStoreBody = z
  .object({
    storeBaseUrl: Pasted("The store's base URL, e.g. https://shop.example.com/ (ending in index.php/ on stores without URL rewrites)"),
    consumerKey: Pasted('Consumer Key (Integration Details)'),
    consumerSecret: Pasted('Consumer Secret (Integration Details)'),
    accessToken: Pasted('Access Token (Integration Details)'),
    accessTokenSecret: Pasted('Access Token Secret (Integration Details)'),
  })
  .strict();
