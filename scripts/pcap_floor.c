/* pcap_floor.c - the libpcap read floor: a pcap_next_ex loop that touches every packet's
 * first byte, over the same file the tools read. Built by scripts/bench.sh with
 * `gcc -O2 pcap_floor.c -lpcap`. Prints "<packets> <xor of first bytes>" so the loop
 * cannot be optimised away. */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const unsigned char *data;
    unsigned long long packets = 0;
    unsigned char acc = 0;
    pcap_t *p;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "pcap_floor: %s\n", err);
        return 1;
    }
    while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
        packets++;
        if (hdr->caplen > 0)
            acc ^= data[0];
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "pcap_floor: %s\n", pcap_geterr(p));
        return 1;
    }
    printf("%llu %u\n", packets, acc);
    pcap_close(p);
    return 0;
}
