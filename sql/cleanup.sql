-- What the post-deploy step created, removed on `pulumi destroy` (the dataset goes after).
DROP MODEL IF EXISTS ${model_id};
DROP TABLE IF EXISTS ${predictions_table_id};
DROP TABLE IF EXISTS ${labels_table_id};
