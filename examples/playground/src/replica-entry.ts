/**
 * The module the training worker's helper threads load (by its URL, a closure cannot cross threads): it
 * exports the replica and nothing runs at its top level but its definition.
 */
import { defineReplica, trainingStep, type Thread } from '@tapestry/parallel';
import { buildReplica, REPLICA_NAME, type ReplicaSetup } from './replica.js';

/** The playground's replica, for the threads that import this module. */
export const playgroundReplica = defineReplica(import.meta.url, REPLICA_NAME, (setup: ReplicaSetup, thread: Thread) =>
  // the carried state (argument 2 after the optimiser state) is replaced by each step: its storage is reused
  buildReplica(setup, thread, (parts) => trainingStep(parts, thread, { donate: [2] })),
);
