edu_integration_test(backup backup_test.py TIMEOUT 120 CASES backup_restore refusals)
