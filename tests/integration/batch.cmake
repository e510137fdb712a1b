# Batch create (POST /api/v1/items with a JSON array) on one school edunetd.
edu_integration_test(batch node_batch.py TIMEOUT 120
  CASES batch_full batch_mixed batch_limits batch_crash)
