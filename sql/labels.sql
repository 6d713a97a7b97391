-- The model's class names in the order of its output (ResNet-50: 1001, index 0
-- "background", then ImageNet-1k; a 1000-class model: ImageNet-1k alone), as a table
-- predict.sql joins against. The array literal is generated from sql/imagenet_labels.csv
-- when the template is rendered, following the stack's background_class output.
CREATE OR REPLACE TABLE ${labels_table_id} AS
SELECT class_index, label
FROM UNNEST(${imagenet_labels}) AS label WITH OFFSET AS class_index;
