-- Import the uploaded model files (a TensorFlow SavedModel by default) as a BigQuery ML model.
-- BigQuery reads the files with the credentials of whoever runs this statement.
CREATE OR REPLACE MODEL ${model_id}
  OPTIONS (model_type = ${model_type}, model_path = ${model_files_uri});
