// `npm run mutation`: StrykerJS against this workspace's unit tests (base in the root stryker.shared.ts).
import { mutationConfig } from '../../stryker.shared.ts';

export default mutationConfig(['src/domain/connect-session.ts']);
