# Directives down the tree, receipts and reports up (node/directive): real edunetd processes.
edu_integration_test(directive directive_test.py TIMEOUT 90
  CASES thcs_reach_and_status forged_refused)
# The same on a real TLS tree, a rogue parent and a child pushing upward (directive_tls.py).
edu_integration_test(directive directive_tls.py TIMEOUT 60
  CASES tls rogue_parent upward)
# The portal's "Văn bản chỉ đạo": home section, /d, /d/{id}, attachments, XSS (directive_portal.py).
edu_integration_test(directive_portal directive_portal.py TIMEOUT 60 CASES portal)
