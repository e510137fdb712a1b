/* The node-to-node wire codec (proto/wire.proto): one Envelope per nng
 * message. Decoding is the one place where the envelope version is checked
 * and where every count, length and id from a peer is checked against the
 * named limits below. Shared by the uplink (child) and the downlink
 * (aggregator/, parent). */
#ifndef EDU_WIRE_H
#define EDU_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <nng/nng.h>
#include "core/err.h"
#include "uplink/uplink.h"
#include "item.pb-c.h"
#include "wire.pb-c.h"

#define EDU_WIRE_VERSION 1
/* nng's NNG_OPT_RECVMAXSZ on every socket: a batch (<= EDU_WIRE_BATCH_BYTES
 * of records) plus the blobs of one item (<= EDU_ATTACH_TOTAL_MAX) fit. */
#define EDU_WIRE_MSG_MAX (64u * 1024 * 1024)
/* What the uplink puts in one Push (a single record may exceed the bytes
 * bound together with its blobs: it then travels alone). */
#define EDU_WIRE_BATCH_RECORDS 512
#define EDU_WIRE_BATCH_BYTES (4u * 1024 * 1024)
/* What a parent accepts in one message. */
#define EDU_WIRE_RECORDS_MAX 4096
#define EDU_WIRE_BLOBS_MAX 512
#define EDU_WIRE_STATUSES_MAX 16384
#define EDU_WIRE_DIR_RECORDS_MAX 256 /* DirSync.receipts, DirSyncAck.directives */
#define EDU_WIRE_TEXT_MAX 1024     /* Error.message, Hello.software_version */
#define EDU_WIRE_CERT_MAX 8192     /* bytes of one DER certificate (== EDU_PKI_CERT_MAX) */
#define EDU_WIRE_CERTS_MAX 4096    /* Push.certs: at most one per record */
#define EDU_WIRE_NONCE_LEN 32      /* Hello.nonce, HelloAck.challenge: 0 or exactly this */
#define EDU_WIRE_SIG_LEN 64        /* Ed25519: HelloAck.nonce_sig, Auth.sig */
/* Domain-separation prefixes of the handshake signatures (proto/wire.proto). */
#define EDU_WIRE_HELLO_CTX "edunet-hello-v1"
#define EDU_WIRE_AUTH_CTX "edunet-auth-v1"
/* Unpacking allocates at most this many bytes per input byte (plus a
 * constant): protobuf-c expands tiny sub-messages into large structs, so a
 * hostile 64 MiB message of empty statuses must not cost gigabytes. */
#define EDU_WIRE_UNPACK_FACTOR 4
#define EDU_WIRE_UNPACK_EXTRA (4u * 1024 * 1024)

typedef Edunet__Wire__Envelope edu_wire_msg;

/* Decodes and validates one message. EDU_ETOOBIG above EDU_WIRE_MSG_MAX or
 * over the allocation budget, EDU_EVERSION for another envelope version,
 * EDU_EPROTO for anything malformed (why says what). Caller frees *out with
 * edu_wire_free. */
edu_err edu_wire_decode(const void *buf, size_t len, edu_wire_msg **out, char *why, size_t whylen);
void edu_wire_free(edu_wire_msg *m); /* accepts NULL */

/* Stamps m->version = EDU_WIRE_VERSION and packs it. Caller frees *out. */
edu_err edu_wire_encode(edu_wire_msg *m, uint8_t **out, size_t *len);
/* Same, into a new nng message (caller owns it). */
edu_err edu_wire_to_nng(edu_wire_msg *m, nng_msg **out);
/* An Error reply as an nng message. */
edu_err edu_wire_error_nng(nng_msg **out, Edunet__Wire__Error__Code code, const char *message);

/* Status <-> NodeStatus. Times travel as ages relative to the sender's clock
 * (reported_ms becomes age_ms), so clocks need not agree: to_pb borrows the
 * strings of s; from_pb rebuilds reported_ms/oldest/last_ack in the local clock. */
void edu_wire_status_to_pb(const edu_node_status *s, int64_t now_ms, Edunet__Wire__NodeStatus *pb);
void edu_wire_status_from_pb(const Edunet__Wire__NodeStatus *pb, int64_t now_ms, edu_node_status *s);

/* The bytes a handshake signature covers: ctx || a || 0 || b || 0 || nonce
 * (see proto/wire.proto). out must hold EDU_WIRE_SIGNED_MAX bytes; returns
 * the length. a and b are unit ids (checked by the codec). */
#define EDU_WIRE_SIGNED_MAX (32 + 2 * 41 + EDU_WIRE_NONCE_LEN)
size_t edu_wire_handshake_msg(uint8_t *out, const char *ctx, const char *a, const char *b,
    const uint8_t nonce[EDU_WIRE_NONCE_LEN]);

/* Unpacks an Item (proto/item.proto) from a record's bytes with the same
 * allocation budget as messages; NULL when undecodable. Free with
 * edu_wire_item_free. For origin checks, not validation (the store does that). */
Edunet__Item *edu_wire_item_unpack(const uint8_t *buf, size_t len);
void edu_wire_item_free(Edunet__Item *it);


#endif
