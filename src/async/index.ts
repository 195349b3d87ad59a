/**
 * async: promise plumbing shared by the layers — settlesWithin (the one timeout race), handledElsewhere (a
 * rejection observed on another path) and whenSettled (waiting for a promise whose outcome another path
 * reports). Layer boundaries: a leaf; imports nothing of the project; every layer above the leaves may import it.
 */
export { settlesWithin } from './settles-within.js';
export { handledElsewhere } from './handled-elsewhere.js';
export { whenSettled } from './when-settled.js';
