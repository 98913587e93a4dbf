export type { Label, PodLabelOptions } from './labels.js';
export {
  LabelSource,
  PodNamespaceLabel,
  PodNamespaceMetaLabelsPrefix,
  PolicyClusterLabel,
  ServiceAccountLabel,
  parseLabel,
  parseLabels,
  formatLabel,
  sortLabels,
  labelArrayKey,
  cidrLabel,
  parseLabelArrayKey,
  labelsFromK8sPod,
  isKnownLabelSource,
  isSecurityRelevant,
  filterSecurityRelevant,
} from './labels.js';
export type { ReservedIdentityOptions } from './reserved-identities.js';
export {
  ReservedIdentity,
  IdentityScope,
  IdentityScopeMask,
  MinimalAllocationIdentity,
  MaxLocalIdentity,
  reservedIdentityName,
  reservedIdentityByName,
  reservedIdentityLabels,
  reservedIdentities,
  isReservedIdentity,
  isLocalIdentity,
} from './reserved-identities.js';
