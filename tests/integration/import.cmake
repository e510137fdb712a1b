# edunetctl import against a real edunetd (tests/integration/import_test.py).
edu_integration_test(import import_test.py TIMEOUT 120
  CASES test_wxr test_rss test_atom_jsonfeed test_encodings_and_errors test_resume test_update)
# Old portal paths recorded at import answer 301 to the item page (node/store sources index).
edu_integration_test(import_redirect import_redirect.py TIMEOUT 60 CASES test_redirects)
