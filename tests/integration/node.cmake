# Single-node tests (node/http, node/api, node/daemon): one school edunetd.
edu_integration_test(node node_api.py TIMEOUT 120
  CASES publish_read feeds update_delete paging errors conditional attachments crash_burst check_config slow_clients aggregating)
