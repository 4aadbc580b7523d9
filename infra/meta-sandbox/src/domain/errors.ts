import { randomBytes } from 'node:crypto';

/**
 * Meta's error vocabulary. Every failure the sandbox answers on a Graph path is a GraphError, serialised as
 * `{"error":{message,type,code,error_subcode,error_user_title,error_user_msg,is_transient,fbtrace_id}}`.
 * Meta answers HTTP 400 for nearly everything, token errors included; 500 only for its own failures.
 */
export type GraphErrorInit = {
  readonly code: number;
  readonly subcode?: number | undefined;
  readonly message: string;
  readonly type?: string | undefined;
  readonly userTitle?: string | undefined;
  readonly userMsg?: string | undefined;
  readonly isTransient?: boolean | undefined;
  readonly httpStatus?: number | undefined;
};

export class GraphError extends Error {
  readonly code: number;
  readonly subcode: number | undefined;
  readonly type: string;
  readonly userTitle: string | undefined;
  readonly userMsg: string | undefined;
  readonly isTransient: boolean;
  readonly httpStatus: number;

  constructor(init: GraphErrorInit) {
    super(init.message);
    this.name = 'GraphError';
    this.code = init.code;
    this.subcode = init.subcode;
    this.type = init.type ?? 'OAuthException';
    this.userTitle = init.userTitle;
    this.userMsg = init.userMsg;
    this.isTransient = init.isTransient ?? TRANSIENT_CODES.has(init.code);
    this.httpStatus = init.httpStatus ?? (init.code === 1 || init.code === 2 ? 500 : 400);
  }
}

const TRANSIENT_CODES = new Set([1, 2, -1, -2, 4, 17, 32, 613, 80001, 80002]);

export type GraphErrorBody = {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_user_title?: string;
    error_user_msg?: string;
    is_transient: boolean;
    fbtrace_id: string;
  };
};

export function fbtraceId(): string {
  return randomBytes(8).toString('base64url').slice(0, 11);
}

export function graphErrorBody(error: GraphError, traceId: string = fbtraceId()): GraphErrorBody {
  return {
    error: {
      message: error.message,
      type: error.type,
      code: error.code,
      ...(error.subcode === undefined ? {} : { error_subcode: error.subcode }),
      ...(error.userTitle === undefined ? {} : { error_user_title: error.userTitle }),
      ...(error.userMsg === undefined ? {} : { error_user_msg: error.userMsg }),
      is_transient: error.isTransient,
      fbtrace_id: traceId,
    },
  };
}

/** The errors the sandbox raises, named after what happened. Codes follow shared/reference/meta-graph-api.md. */
export const errors = {
  missingToken: () =>
    new GraphError({ code: 104, message: 'An access token is required to request this resource.' }),
  unparseableToken: () =>
    new GraphError({ code: 190, message: 'Invalid OAuth access token - Cannot parse access token' }),
  token: (subcode: number | undefined, message: string) =>
    new GraphError({
      code: 190,
      subcode,
      message,
      userTitle: subcode === undefined ? undefined : 'Session expired or invalidated',
      userMsg: subcode === undefined ? undefined : 'Please reconnect the account.',
    }),
  wrongTokenKind: (expected: string) =>
    new GraphError({ code: 190, message: `Invalid OAuth access token - this call needs ${expected}.` }),
  unsupported: (method: string, id: string) =>
    new GraphError({
      code: 100,
      subcode: 33,
      type: 'GraphMethodException',
      message: `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    }),
  unknownPath: (path: string) =>
    new GraphError({ code: 2500, message: `Unknown path components: ${path}` }),
  unsupportedVersion: (version: string, newest: string) =>
    new GraphError({
      code: 2635,
      message: `(#2635) You are calling a deprecated or unknown version of the Graph API (${version}). Please update to ${newest}.`,
    }),
  invalidParameter: (message: string, subcode?: number) =>
    new GraphError({ code: 100, subcode, message: `(#100) ${message}` }),
  missingParameter: (name: string) =>
    new GraphError({ code: 100, message: `(#100) The parameter ${name} is required` }),
  nonexistingField: (field: string, nodeType: string) =>
    new GraphError({ code: 100, message: `(#100) Tried accessing nonexisting field (${field}) on node type (${nodeType})` }),
  permission: (code: 10 | 200, scope: string) =>
    new GraphError({
      code,
      message:
        code === 10
          ? `(#10) Application does not have permission for this action (requires ${scope}).`
          : `(#200) Requires ${scope} permission to manage the object`,
    }),
  // Code 1 is usually transient, but a wrong secret is not: Meta does not mark it transient.
  clientSecret: () => new GraphError({ code: 1, message: 'Error validating client secret.', httpStatus: 400, isTransient: false }),
  appSecretProof: () =>
    new GraphError({ code: 100, type: 'GraphMethodException', message: 'Invalid appsecret_proof provided in the API argument' }),
  unknownApp: (appId: string) =>
    new GraphError({ code: 101, message: `Error validating application. Cannot get application info due to a system error (${appId}).` }),
  codeVerifierMismatch: () =>
    new GraphError({ code: 100, subcode: 36007, message: 'Invalid code_verifier: it does not match the code_challenge of the login request.' }),
  codeUsed: () => new GraphError({ code: 100, subcode: 36009, message: 'This authorization code has been used.' }),
  codeExpired: () => new GraphError({ code: 100, subcode: 36007, message: 'This authorization code has expired.' }),
  codeInvalid: () =>
    new GraphError({ code: 100, message: 'Invalid verification code format.', subcode: 36007 }),
  redirectMismatch: () =>
    new GraphError({
      code: 100,
      subcode: 36008,
      message:
        'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
    }),

  // Instagram publishing (codes from the reference's table)
  mediaFetchFailed: (url: string, why: string) =>
    new GraphError({
      code: 9004,
      subcode: 2207052,
      message: 'The media could not be fetched from this uri: ' + url,
      userTitle: 'Media download has failed.',
      userMsg: `The media could not be fetched from this URI: ${url} (${why}). Please check that the URI is publicly reachable.`,
    }),
  mediaDownloadTimeout: (url: string) =>
    new GraphError({
      code: -2,
      subcode: 2207003,
      message: 'Timeout',
      userTitle: 'Timeout',
      userMsg: `It took too long to download the media from ${url}.`,
      isTransient: true,
    }),
  imageTooLarge: (bytes: number) =>
    new GraphError({
      code: 36000,
      subcode: 2207004,
      message: 'Image size too large',
      userTitle: 'The image is too large to download',
      userMsg: `The image is ${bytes} bytes; the maximum is 8 MB.`,
    }),
  imageFormat: (found: string) =>
    new GraphError({
      code: 36001,
      subcode: 2207005,
      message: 'The image format is not supported.',
      userTitle: 'Unsupported image format',
      userMsg: `The image format (${found}) is not supported. Only JPEG images are accepted.`,
    }),
  aspectRatio: (ratio: number) =>
    new GraphError({
      code: 36003,
      subcode: 2207009,
      message: 'The submitted image with aspect ratio ' + ratio.toFixed(3) + ' cannot be published. Please submit an image with a valid aspect ratio.',
      userTitle: 'Aspect ratio not supported',
      userMsg: 'Feed images must have an aspect ratio between 4:5 and 1.91:1.',
    }),
  videoFormat: (detail: string) =>
    new GraphError({
      code: 352,
      subcode: 2207026,
      message: 'The video format is not supported. Please check spec for supported video format.',
      userTitle: 'Unsupported video format',
      userMsg: detail,
    }),
  captionTooLong: (length: number) =>
    new GraphError({
      code: 36004,
      subcode: 2207010,
      message: 'The caption is too long.',
      userTitle: 'Caption exceeded maximum character limit',
      userMsg: `The caption has ${length} characters; the maximum is 2200.`,
    }),
  tooManyTags: (count: number, what: string) =>
    new GraphError({
      code: 100,
      subcode: 2207040,
      message: `(#100) Cannot use more than 20 ${what} (found ${count}).`,
      userTitle: 'Too many tags',
      userMsg: `The post has ${count} ${what}; the maximum is 20.`,
    }),
  thumbOffset: () =>
    new GraphError({
      code: 1,
      subcode: 2207057,
      httpStatus: 400,
      isTransient: false,
      message: 'The thumbnail offset is invalid.',
      userTitle: 'Invalid thumbnail offset',
      userMsg: 'thumb_offset must be a non-negative number of milliseconds inside the video.',
    }),
  carouselSize: (count: number) =>
    new GraphError({
      code: 100,
      subcode: 2207028,
      message: `(#100) A carousel needs between 2 and 10 children (got ${count}).`,
      userTitle: 'Carousel validation failed',
      userMsg: 'Carousels must have between 2 and 10 photos or videos.',
    }),
  invalidCollaborators: (detail: string) =>
    new GraphError({ code: 100, subcode: 2207018, message: `(#100) ${detail}`, userTitle: 'Invalid collaborators', userMsg: detail }),
  containerCap: (cap: number) =>
    new GraphError({
      code: 9,
      message: `(#9) The account created more than ${cap} containers in the last 24 hours.`,
      userTitle: 'Too many containers',
      userMsg: `At most ${cap} media containers can be created per account in 24 hours.`,
    }),
  pageReelCap: (cap: number) =>
    new GraphError({ code: 9, message: `(#9) The Page published ${cap} reels in the last 24 hours, the most allowed.`, userTitle: 'Reel limit reached' }),
  unknownMediaType: (detail: string) =>
    new GraphError({ code: 100, subcode: 2207023, message: `(#100) ${detail}`, userTitle: 'Unknown media type' }),
  notReady: () =>
    new GraphError({
      code: 9007,
      subcode: 2207027,
      message: 'Media ID is not available',
      userTitle: 'Media is not ready for publishing',
      userMsg: 'The media is not ready for publishing, please wait for a moment',
    }),
  containerMissing: (id: string) =>
    new GraphError({
      code: 24,
      subcode: 2207008,
      message: `The media builder with creation id = ${id} does not exist or has been expired.`,
      userTitle: 'Media builder does not exist',
    }),
  containerExpired: () =>
    new GraphError({
      code: -2,
      subcode: 2207020,
      isTransient: false,
      message: 'The media you are trying to access has expired. Please try to upload again.',
      userTitle: 'Media expired',
    }),
  alreadyPublished: (containerId: string) =>
    new GraphError({
      code: 100,
      message: `(#100) The container ${containerId} has already been published; a container publishes at most once.`,
      userTitle: 'Container already published',
    }),
  quotaReached: () =>
    new GraphError({
      code: 9,
      subcode: 2207042,
      message: 'Application request limit reached',
      userTitle: 'Max Posts Reached',
      userMsg: 'The maximum number of posts that were published in 24 hours has been reached.',
    }),
  deleteUnsupported: (why: string) =>
    new GraphError({ code: -1, subcode: 2207073, isTransient: false, message: `Media deletion is not supported: ${why}` }),
  rateLimited: (code: 4 | 17 | 32 | 80001 | 80002) =>
    new GraphError({
      code,
      message:
        code === 4
          ? '(#4) Application request limit reached'
          : code === 17
            ? '(#17) User request limit reached'
            : code === 32
              ? '(#32) Page request limit reached'
              : code === 80001
                ? '(#80001) There have been too many calls to this Page account. Wait a bit and try again.'
                : '(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.',
    }),
  notEnoughViewers: () =>
    new GraphError({ code: 10, message: '(#10) Not enough viewers for the media to show insights' }),
  callbackVerification: (why: string) =>
    new GraphError({ code: 2200, message: `(#2200) callback verification failed: ${why}` }),
} as const;
