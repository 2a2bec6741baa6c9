-- Up Migration

-- A second purchase-count model, chosen by evidence (issue 13, point 3). Each refit fits the count
-- models CLV_MODEL allows (BG/NBD, Pareto/NBD, or both under `auto`) on all the data, validates
-- each on the same holdout, and applies one: that row is 'accepted'; a fit the guard rejects is
-- 'rejected' as before; an acceptable fit the choice passed over is 'not-chosen', kept with its
-- parameters and validation for the record (the Models page compares them) and never read by
-- evaluations. `selection` holds the comparison on the applied row: the setting, each candidate's
-- holdout MAE or rejection, the choice and why, and every candidate's validation. NULL on rows
-- that took part in no comparison (Gamma-Gamma, rows before this migration).
ALTER TABLE clv_models DROP CONSTRAINT clv_models_kind_check;
ALTER TABLE clv_models ADD CONSTRAINT clv_models_kind_check CHECK (kind IN ('bgnbd', 'paretonbd', 'gamma-gamma'));
ALTER TABLE clv_models DROP CONSTRAINT clv_models_status_check;
ALTER TABLE clv_models ADD CONSTRAINT clv_models_status_check CHECK (status IN ('accepted', 'rejected', 'not-chosen'));
ALTER TABLE clv_models DROP CONSTRAINT clv_models_rejected_has_reason;
ALTER TABLE clv_models ADD CONSTRAINT clv_models_not_applied_has_reason CHECK ((status <> 'accepted') = (reason IS NOT NULL));
ALTER TABLE clv_models ADD COLUMN selection jsonb;

-- Down Migration
-- Without Pareto/NBD or 'not-chosen', those rows cannot be kept: the newest BG/NBD stays current.
DELETE FROM clv_models WHERE kind = 'paretonbd' OR status = 'not-chosen';
ALTER TABLE clv_models DROP COLUMN selection;
ALTER TABLE clv_models DROP CONSTRAINT clv_models_not_applied_has_reason;
ALTER TABLE clv_models ADD CONSTRAINT clv_models_rejected_has_reason CHECK ((status = 'rejected') = (reason IS NOT NULL));
ALTER TABLE clv_models DROP CONSTRAINT clv_models_status_check;
ALTER TABLE clv_models ADD CONSTRAINT clv_models_status_check CHECK (status IN ('accepted', 'rejected'));
ALTER TABLE clv_models DROP CONSTRAINT clv_models_kind_check;
ALTER TABLE clv_models ADD CONSTRAINT clv_models_kind_check CHECK (kind IN ('bgnbd', 'gamma-gamma'));
