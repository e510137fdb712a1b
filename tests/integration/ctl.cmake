# edunetctl against a real edunetd.
edu_integration_test(ctl ctl_cli.py TIMEOUT 120
  CASES test_publish_show test_items test_delete test_status test_topology_report test_errors)
