export { BehaviourStore, validateBehaviour, type Behaviour, type BehaviourRecord } from './BehaviourStore.ts';
export { createTestCommandHandler, TEST_COMMAND, TEST_DOMAIN } from './testCommandHandler.ts';
