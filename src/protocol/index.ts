/**
 * warden's protocol: the error codes and error class, the names (states, levels, kinds, methods) and the wire types.
 * The bottom layer: it imports nothing from the rest of src/, and everything else may import it.
 */
export * from './errors.js';
export * from './vocabulary.js';
export * from './method-names.js';
export * from './exit-codes.js';
export * from './environment.js';
export type * from './wire.js';
