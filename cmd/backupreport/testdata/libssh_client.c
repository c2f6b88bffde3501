// libssh_client is a small libssh (not libssh2) client for the end-to-end
// tests: it logs in with a private key file and uploads standard input the
// way a customer's libssh-based tool would.
//
//	libssh_client auth HOST PORT KEY COUNT     log in COUNT times, print failures
//	libssh_client exec HOST PORT KEY COMMAND   run COMMAND with stdin as its input
//	libssh_client scp  HOST PORT KEY PATH      upload stdin with libssh's scp (scp -t)
//
// It prints the server's stderr and exits with the remote exit status, or
// 100 + a step number when a libssh call fails.
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(size_t *n) {
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap);
	size_t r;
	while ((r = fread(b + len, 1, cap - len, stdin)) > 0) {
		len += r;
		if (len == cap) b = realloc(b, cap *= 2);
	}
	*n = len;
	return b;
}

static ssh_session login(const char *host, int port, const char *keyfile, int *step) {
	ssh_session s = ssh_new();
	ssh_key key = NULL;
	int verbosity = SSH_LOG_NOLOG;
	ssh_options_set(s, SSH_OPTIONS_HOST, host);
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_USER, "backup");
	ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	if (ssh_connect(s) != SSH_OK) {
		fprintf(stderr, "connect: %s\n", ssh_get_error(s));
		*step = 1;
		goto fail;
	}
	if (ssh_pki_import_privkey_file(keyfile, NULL, NULL, NULL, &key) != SSH_OK) {
		fprintf(stderr, "import key %s failed\n", keyfile);
		*step = 2;
		goto fail;
	}
	int rc = ssh_userauth_publickey(s, NULL, key);
	ssh_key_free(key);
	if (rc != SSH_AUTH_SUCCESS) {
		fprintf(stderr, "auth: %d %s\n", rc, ssh_get_error(s));
		*step = 3;
		goto fail;
	}
	return s;
fail:
	ssh_disconnect(s);
	ssh_free(s);
	return NULL;
}

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: libssh_client auth|exec|scp HOST PORT KEY ARG\n");
		return 2;
	}
	const char *mode = argv[1], *host = argv[2], *keyfile = argv[4], *arg = argv[5];
	int port = atoi(argv[3]), step = 0;
	if (strcmp(mode, "auth") == 0) {
		int n = atoi(arg), failed = 0;
		for (int i = 0; i < n; i++) {
			ssh_session s = login(host, port, keyfile, &step);
			if (s == NULL) {
				failed++;
				continue;
			}
			ssh_disconnect(s);
			ssh_free(s);
		}
		printf("logins %d failures %d\n", n, failed);
		return failed ? 1 : 0;
	}
	size_t len;
	char *data = slurp(&len);
	ssh_session s = login(host, port, keyfile, &step);
	if (s == NULL) return 100 + step;
	int status = -1;
	if (strcmp(mode, "scp") == 0) {
		ssh_scp scp = ssh_scp_new(s, SSH_SCP_WRITE, arg);
		if (scp == NULL || ssh_scp_init(scp) != SSH_OK) {
			fprintf(stderr, "scp init: %s\n", ssh_get_error(s));
			return 110;
		}
		if (ssh_scp_push_file(scp, "stats.out", len, 0644) != SSH_OK) {
			fprintf(stderr, "scp push: %s\n", ssh_get_error(s));
			return 111;
		}
		if (ssh_scp_write(scp, data, len) != SSH_OK) {
			fprintf(stderr, "scp write: %s\n", ssh_get_error(s));
			return 112;
		}
		ssh_scp_close(scp);
		ssh_scp_free(scp);
		status = 0;
	} else {
		ssh_channel ch = ssh_channel_new(s);
		if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK) return 120;
		if (ssh_channel_request_exec(ch, arg) != SSH_OK) {
			fprintf(stderr, "exec: %s\n", ssh_get_error(s));
			return 121;
		}
		for (size_t off = 0; off < len;) {
			int w = ssh_channel_write(ch, data + off, len - off);
			if (w <= 0) return 122;
			off += w;
		}
		ssh_channel_send_eof(ch);
		char buf[4096];
		int r;
		while ((r = ssh_channel_read(ch, buf, sizeof buf, 1)) > 0) fwrite(buf, 1, r, stderr);
		while ((r = ssh_channel_read(ch, buf, sizeof buf, 0)) > 0) fwrite(buf, 1, r, stdout);
		status = ssh_channel_get_exit_status(ch);
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	ssh_disconnect(s);
	ssh_free(s);
	return status;
}
