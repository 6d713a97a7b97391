-- Classify every image of the object table with the model and keep the top-k labels.
--
-- Incremental: only objects that are new, or whose generation changed since they were
-- predicted, go through ML.PREDICT; a rerun with nothing new runs no inference.
-- Rendered with full_refresh (`run --full-refresh`), it rebuilds the whole table.

CREATE TABLE IF NOT EXISTS ${predictions_table_id} (
  uri STRING NOT NULL,
  generation INT64,
  content_type STRING,
  size INT64,
  skip_reason STRING,
  top_labels ARRAY<STRUCT<`rank` INT64, class_index INT64, label STRING, score FLOAT64>>,
  top1_label STRING,
  top1_score FLOAT64,
  model_id STRING,
  predicted_at TIMESTAMP
);

-- Forget rows whose object is gone or was overwritten (or all rows on a full refresh);
-- the INSERT below predicts every object that has no row.
DELETE FROM ${predictions_table_id} AS p
WHERE ${full_refresh}
  OR NOT EXISTS (
    SELECT 1
    FROM ${object_table_id} AS o
    WHERE o.uri = p.uri AND o.generation = p.generation
  );

INSERT INTO ${predictions_table_id}
  (uri, generation, content_type, size, skip_reason, top_labels, top1_label, top1_score,
   model_id, predicted_at)
WITH
  scores AS (
    SELECT uri, generation, content_type, size, ${model_output} AS scores
    FROM ML.PREDICT(
      MODEL ${model_id},
      (
        -- Only what ML.DECODE_IMAGE can decode: JPEG, PNG or BMP, within its size limit.
        SELECT
          uri, generation, content_type, size,
          ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), ${image_size}, ${image_size}, FALSE) AS ${model_input}
        FROM ${object_table_id}
        WHERE content_type IN (${decodable_content_types})
          AND size <= ${max_image_bytes}
          AND uri NOT IN (SELECT uri FROM ${predictions_table_id})
      )
    )
  ),
  -- The k highest of each image's class scores, best first. ARRAY_AGG ... LIMIT keeps
  -- only k entries per image while it aggregates, so the scores are never ranked as
  -- rows. Ties go to the lower class index: `-class_index DESC` is `class_index ASC`
  -- written in the same direction as the score, which the local engine's streaming
  -- top-k needs.
  top_scores AS (
    SELECT
      s.uri, s.generation, s.content_type, s.size,
      ARRAY_AGG(
        STRUCT(class_index AS class_index, score AS score)
        ORDER BY score DESC, -class_index DESC
        LIMIT ${top_k}
      ) AS best
    FROM scores AS s, UNNEST(s.scores) AS score WITH OFFSET AS class_index
    GROUP BY s.uri, s.generation, s.content_type, s.size
  ),
  -- Ranks (1 first) and labels for those k entries.
  labelled AS (
    SELECT
      t.uri, t.generation, t.content_type, t.size,
      ARRAY_AGG(
        STRUCT(entry_offset + 1 AS `rank`, b.class_index AS class_index, l.label AS label,
               b.score AS score)
        ORDER BY entry_offset
      ) AS top_labels
    FROM top_scores AS t, UNNEST(t.best) AS b WITH OFFSET AS entry_offset
    LEFT JOIN ${labels_table_id} AS l ON l.class_index = b.class_index
    GROUP BY t.uri, t.generation, t.content_type, t.size
  )
SELECT
  uri, generation, content_type, size,
  CAST(NULL AS STRING) AS skip_reason,
  top_labels,
  top_labels[OFFSET(0)].label AS top1_label,
  top_labels[OFFSET(0)].score AS top1_score,
  ${model_id_value} AS model_id,
  CURRENT_TIMESTAMP() AS predicted_at
FROM labelled
UNION ALL
-- Objects BigQuery cannot decode get a row saying why, so they are not retried every run.
SELECT
  uri, generation, content_type, size,
  IF(
    content_type IS NULL OR content_type NOT IN (${decodable_content_types}),
    CONCAT('unsupported content type ', IFNULL(content_type, 'unknown')),
    CONCAT('larger than the ML.DECODE_IMAGE limit of ', CAST(${max_image_bytes} AS STRING), ' bytes')
  ) AS skip_reason,
  ARRAY<STRUCT<`rank` INT64, class_index INT64, label STRING, score FLOAT64>>[] AS top_labels,
  CAST(NULL AS STRING) AS top1_label,
  CAST(NULL AS FLOAT64) AS top1_score,
  ${model_id_value} AS model_id,
  CURRENT_TIMESTAMP() AS predicted_at
FROM ${object_table_id}
WHERE (content_type IS NULL
       OR content_type NOT IN (${decodable_content_types})
       OR size > ${max_image_bytes})
  AND uri NOT IN (SELECT uri FROM ${predictions_table_id});
