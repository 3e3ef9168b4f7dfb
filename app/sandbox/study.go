package sandbox

// The demo study: a valid pipeline, then a push that breaks it in ways
// researchers really do (a moderately sensitive PDF, an image without a
// version, a typo in needs).

const validPipeline = `version: '5.0'

actions:
  generate_dataset:
    run: ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz
    outputs:
      highly_sensitive:
        dataset: output/dataset.csv.gz

  describe_cohort:
    run: python:v2 analysis/describe.py
    needs: [generate_dataset]
    outputs:
      moderately_sensitive:
        table: output/table1.csv
        plot: output/age_distribution.png
`

const brokenPipeline = `version: '5.0'

actions:
  generate_dataset:
    run: ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz
    outputs:
      highly_sensitive:
        dataset: output/dataset.csv.gz

  describe_cohort:
    run: python:v2 analysis/describe.py
    needs: [generate_dataset]
    outputs:
      moderately_sensitive:
        table: output/table1.csv
        report: output/report.pdf

  model:
    run: r analysis/model.R
    needs: [generate_datset]
    outputs:
      moderately_sensitive:
        estimates: output/estimates.csv
`

const datasetDefinition = `from ehrql import create_dataset
from ehrql.tables.core import patients

dataset = create_dataset()
dataset.define_population(patients.date_of_birth.is_not_null())
dataset.age = patients.age_on("2024-01-01")
`

const describeScript = `import pandas as pd

df = pd.read_csv("output/dataset.csv.gz")
df.describe().to_csv("output/table1.csv")
`

const modelScript = `dataset <- read.csv("output/dataset.csv.gz")
write.csv(summary(dataset), "output/estimates.csv")
`
