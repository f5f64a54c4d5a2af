export {
  checkOpens,
  KEY_FILE_NAME,
  loadSealer,
  parseSecretsKey,
  SealedValueError,
  Sealer,
  SecretsKeyError,
  type LoadSealerOptions,
  type SealingKey,
} from './sealer.js';
