# Directives down the tree, receipts and reports up (node/directive): real edunetd processes.
edu_integration_test(directive directive_test.py TIMEOUT 90
  CASES thcs_reach_and_status forged_refused)
