# Security tests against real edunetd processes (tests/integration/sec_*.py):
# authentication, oversized bodies/headers, slowloris, injection, methods, an
# oversized nng frame on a Phòng's downlink, and XSS in headless Chromium
# (needs Debian's `chromium` package; see deploy/install-deps.sh).
edu_integration_test(sec sec_test.py TIMEOUT 90
  CASES auth huge_content_length huge_header slowloris_idle slowloris injection methods nng_oversize)
edu_integration_test(sec_xss sec_xss.py TIMEOUT 180
  CASES xss_detector_works xss_browser)
