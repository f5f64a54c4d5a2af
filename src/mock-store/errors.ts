// Magento's exception families, as far as a client can tell them apart: the status code each gets and the raw
// message + parameters its renderers print. The token endpoints print the rendered message
// (Oauth\Helper\Request::prepareErrorResponse); the REST API prints the raw message and its parameters
// (Webapi\ErrorProcessor::maskException + Webapi\Rest\Response::_renderMessages).

export type PhraseArgs = Record<string, unknown> | unknown[];

/** Magento\Framework\Phrase\Renderer\Placeholder: `%1`.. for positional, `%name` for named arguments. */
export function renderPhrase(raw: string, args: PhraseArgs): string {
  const pairs: [string, string][] = Array.isArray(args)
    ? args.map((v, i) => [`%${i + 1}`, String(v)])
    : Object.entries(args).map(([k, v]) => [`%${k}`, String(v)]);
  if (pairs.length === 0) return raw;
  // strtr with an array: at each position the longest placeholder wins, replaced text is not scanned again.
  pairs.sort((a, b) => b[0].length - a[0].length);
  let out = '';
  for (let i = 0; i < raw.length; ) {
    const hit = pairs.find(([p]) => raw.startsWith(p, i));
    if (hit) {
      out += hit[1];
      i += hit[0].length;
    } else out += raw[i++];
  }
  return out;
}

export type MagentoExceptionKind =
  /** Magento\Framework\Oauth\Exception (an AuthenticationException): 401 everywhere. */
  | 'oauth'
  /** OauthInputException / InputException: 400. */
  | 'input'
  /** AuthorizationException: 401 on REST. */
  | 'authorization'
  /** NoSuchEntityException: 404 on REST. */
  | 'noSuchEntity'
  /** Other LocalizedException: 400 on REST. */
  | 'localized'
  /** Webapi\Exception: its own status, message already rendered, no parameters. */
  | 'webapi'
  /** Anything else: 500, message masked. */
  | 'internal';

export interface ErrorMessage {
  raw: string;
  params: PhraseArgs;
}

/** A PHP exception Magento would throw (named so it is not confused with the connector's client-side MagentoError). */
export class MagentoException extends Error {
  constructor(
    readonly kind: MagentoExceptionKind,
    readonly raw: string,
    readonly params: PhraseArgs = [],
    /** Only for kind 'webapi'. */
    readonly httpCode = 400,
    /** InputException with two or more errors: the list, and `raw` is the generic message. */
    readonly errors: ErrorMessage[] = [],
  ) {
    super(renderPhrase(raw, params));
  }

  get restStatus(): number {
    switch (this.kind) {
      case 'oauth':
      case 'authorization':
        return 401;
      case 'noSuchEntity':
        return 404;
      case 'webapi':
        return this.httpCode;
      case 'internal':
        return 500;
      default:
        return 400;
    }
  }
}

export const oauthError = (raw: string, params: PhraseArgs = []): MagentoException => new MagentoException('oauth', raw, params);
export const inputError = (raw: string, params: PhraseArgs = []): MagentoException => new MagentoException('input', raw, params);
export const webapiError = (message: string, httpCode = 400): MagentoException =>
  new MagentoException('webapi', message, [], httpCode);

export const INPUT_EXCEPTIONS_OCCURRED = 'One or more input exceptions have occurred.';

/** InputException::addError semantics: one error is the message itself; two or more become a list. */
export function aggregateInputErrors(errors: ErrorMessage[]): MagentoException | null {
  if (errors.length === 0) return null;
  if (errors.length === 1) return inputError(errors[0]!.raw, errors[0]!.params);
  return new MagentoException('input', INPUT_EXCEPTIONS_OCCURRED, [], 400, errors);
}

/** `"%fieldName" is required. Enter and try again.` (InputException::requiredField). */
export const requiredField = (fieldName: string): ErrorMessage => ({
  raw: '"%fieldName" is required. Enter and try again.',
  params: { fieldName },
});

/** The type processor's refusal of a value that does not convert (TypeProcessor::convertValue). */
export const invalidType = (value: string, type: string): MagentoException =>
  new MagentoException('localized', 'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.', {
    value,
    type,
  });
