-- Up Migration

-- Every refit's fits are judged before they are applied (issue 13): a fit that did not converge,
-- has a non-finite log-likelihood, sits at a parameter bound or rests on too few repeat buyers is
-- kept for the record as 'rejected' with its reason (a code, e.g. too-few-repeat-buyers, and a
-- detail) but never read by evaluations, so the previous model stays. The rows before this
-- migration were all applied: 'accepted'.
ALTER TABLE clv_models
  ADD COLUMN status        text NOT NULL DEFAULT 'accepted' CHECK (status IN ('accepted', 'rejected')),
  ADD COLUMN reason        text,
  ADD COLUMN reason_detail text,
  -- The holdout validation of the refit that produced this model (a fit on the calibration window
  -- scored on the holdout after it): the actual-vs-predicted table, tracking series, MAE and
  -- correlation, or why it was skipped. NULL for models fitted without one.
  ADD COLUMN validation    jsonb,
  ADD CONSTRAINT clv_models_rejected_has_reason CHECK ((status = 'rejected') = (reason IS NOT NULL));
-- The newest accepted model of each kind, read by every evaluation batch.
CREATE INDEX clv_models_accepted_idx ON clv_models (kind, id DESC) WHERE status = 'accepted';

-- Down Migration
-- Without the status, a rejected row would read as the newest model: it goes.
DELETE FROM clv_models WHERE status = 'rejected';
DROP INDEX clv_models_accepted_idx;
ALTER TABLE clv_models
  DROP CONSTRAINT clv_models_rejected_has_reason,
  DROP COLUMN validation,
  DROP COLUMN reason_detail,
  DROP COLUMN reason,
  DROP COLUMN status;
