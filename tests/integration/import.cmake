# edunetctl import against a real edunetd (tests/integration/import_test.py).
# import_redirect.py (old portal paths → 301) waits for the http/store lookup; not registered yet.
edu_integration_test(import import_test.py TIMEOUT 120
  CASES test_wxr test_rss test_atom_jsonfeed test_encodings_and_errors test_resume test_update)
