# Identity and integrity on the tree (SPEC §6.5): mutual TLS, link handshake,
# origin signatures at every hop, revocation (tests/integration/tls_test.py).
edu_integration_test(tls tls_test.py TIMEOUT 60
  CASES signed_tree other_ca identity wrong_parent revoked tamper)
