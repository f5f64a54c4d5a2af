// What the steps leave on ctx.state, per kind of route. Each router is typed with its state (Router<State>), and each
// step with the part it reads or writes, so a step that needs `form` cannot be mounted before `readForm`.
import type { CallbackInput } from '../activation/callback.js';
import type { ActivationService } from '../activation/service.js';
import type { QueryPair } from '../protocol/query.js';
import type { Account, Binding } from '../storage/types.js';
import type { AuthenticatedKey } from './auth.js';
import type { FormFields } from './steps/read-form.js';

/** A link on a page: where to go from it (the error page's "start again" button). */
export interface PageLink {
  url: string;
  text: string;
}

export interface BaseState {
  /** Set by the requestId middleware for every request. */
  requestId: string;
  /** Where a failed request can be started again, set by a step that knows it: the error page links to it. */
  retry?: PageLink;
  /** Set by a step that knows this page shows in Magento's popup though its path does not say so (the OpenID return). */
  inPopup?: boolean;
  /** The caller's own X-Request-Id when it sent a sane one (echoed, and logged beside ours). */
  callerRequestId?: string;
}

export interface FormState extends BaseState {
  form: FormFields;
}

/** The Identity Link's two parameters, from the popup's query or its forms' hidden fields. */
export interface IdentityLink {
  consumerKey: string;
  successCallBack: string | null;
}

export interface IdentityState extends FormState {
  link: IdentityLink;
  binding: Binding;
  account: Account;
}

export interface CallbackState extends FormState {
  callback: CallbackInput;
  recorded: Awaited<ReturnType<ActivationService['receiveCallback']>>;
}

export interface SessionState extends FormState {
  account: Account;
}

export interface ApiState extends BaseState {
  apiKey: AuthenticatedKey;
  accountId: string;
  queryPairs: QueryPair[];
  rawBody: Buffer | undefined;
}
