-- Up Migration

-- Each refit validates both purchase-count models (BG/NBD and Pareto/NBD) on the same holdout and
-- records which one the evidence favours and why (issue 13, point 3): the setting, each
-- candidate's holdout MAE or rejection, the choice and its sentence, stored with the count model
-- the refit applied. NULL for rows that took part in no comparison (Gamma-Gamma, rejected fits,
-- refits without a holdout, rows before this migration).
ALTER TABLE clv_models ADD COLUMN selection jsonb;

-- Down Migration
ALTER TABLE clv_models DROP COLUMN selection;
