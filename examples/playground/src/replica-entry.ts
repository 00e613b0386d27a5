/**
 * The module the training worker's helper threads load (by its URL, a closure cannot cross threads): it
 * exports the replica and nothing runs at its top level but its definition.
 */
import { defineReplica } from '@tapestry/parallel';
import { buildReplica, REPLICA_NAME } from './replica.js';

/** The playground's replica, for the threads that import this module. */
export const playgroundReplica = defineReplica(import.meta.url, REPLICA_NAME, buildReplica);
