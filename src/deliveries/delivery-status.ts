// Defined in the workflow-safe contract so the workflow and activities name the same statuses and transitions.
export {
  DELIVERY_STATUSES,
  DELIVERY_STATUS_TRANSITIONS,
  FINISHED_DELIVERY_STATUSES,
  FORCE_RESEND_STATUSES,
  OPEN_DELIVERY_STATUSES,
  RETRYABLE_DELIVERY_STATUSES,
  allowedPredecessors,
  isAllowedTransition,
  type DeliveryStatus,
  type FinishedDeliveryStatus,
} from '../../contract/delivery-status.js';
