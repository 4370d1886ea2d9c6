/** The result schemas of a manifest's methods are checked as the manifest's own (src/manifest/method-schemas.ts). */
export { schemaProblem } from '../../manifest/method-schemas.js';
