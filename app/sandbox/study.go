package sandbox

// The demo study: a valid pipeline, then a push that breaks it in ways
// researchers really do (a moderately sensitive PDF, an image without a
// version, a typo in needs). Its actions run on the sandbox agent's
// built-in stand-ins (Images): ehrql writes a dummy dataset, summary counts
// the values of each column, rounded to 5.

const validPipeline = `version: '5.0'

actions:
  generate_dataset:
    run: ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz
    outputs:
      highly_sensitive:
        dataset: output/dataset.csv.gz

  describe_cohort:
    run: summary:v1 output/dataset.csv.gz output/table1.csv
    needs: [generate_dataset]
    outputs:
      moderately_sensitive:
        table: output/table1.csv
`

const brokenPipeline = `version: '5.0'

actions:
  generate_dataset:
    run: ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz
    outputs:
      highly_sensitive:
        dataset: output/dataset.csv.gz

  describe_cohort:
    run: summary:v1 output/dataset.csv.gz output/table1.csv
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

const modelScript = `dataset <- read.csv("output/dataset.csv.gz")
write.csv(summary(dataset), "output/estimates.csv")
`
