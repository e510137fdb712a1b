# `ca` command end to end, checked with OpenSSL (tests/integration/pki_ca.py).
edu_integration_test(pki pki_ca.py CASES lifecycle tamper TIMEOUT 60)
