import type { GraphErrorInfo } from '@postwire/graph';

/**
 * The platform refused the post without a Graph error to classify: a container that ended in ERROR, or an error
 * text with an empty status code. Final: the engine fails the post with `info.message`, no retry. A flow saves
 * its progress without the dead containers before throwing it, so a user's retry starts afresh.
 */
export class PublishRefusedError extends Error {
  override readonly name = 'PublishRefusedError';
  readonly info: GraphErrorInfo;

  constructor(info: GraphErrorInfo) {
    super(info.message);
    this.info = info;
  }
}
