-- The model's 1001 class names (index 0 "background", then ImageNet-1k in order), as a
-- table predict.sql joins against. The array literal is generated from
-- sql/imagenet_labels.csv when the template is rendered.
CREATE OR REPLACE TABLE ${labels_table_id} AS
SELECT class_index, label
FROM UNNEST(${imagenet_labels}) AS label WITH OFFSET AS class_index;
