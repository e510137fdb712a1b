# Replication tree (node/uplink, aggregator/): several real edunetd processes.
edu_integration_test(tree tree_test.py TIMEOUT 240
  CASES propagate burst_kill so_down refused sigstop views
        order_gap order_swap order_busy order_failed_commit legacy_push)
