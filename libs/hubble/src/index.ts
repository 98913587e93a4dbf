export { FilterError } from './filters/filter-error.js';
export { compileFlowFilter, compileFlowFilters, compileFlowSelection, type FlowPredicate } from './filters/flow-filter.js';
export { parseLabelSelector, type LabelSelector } from './filters/label-selector.js';
