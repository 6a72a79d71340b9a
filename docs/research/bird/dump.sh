#!/bin/bash
# usage: dump.sh <suffix>   -- saves birdc outputs for all 4 routers
R=/root/.cache/mplslab/appliance/309f52ea4b33/rootfs
O=/work/bird-research/outputs; S=${1:+_$1}
b() { chroot $R birdc -s /run/br-$1.ctl "${@:2}"; }
for n in ce1 pe1 pe2 ce2; do
  b $n show status > $O/$n.show_status$S.txt
  b $n show protocols > $O/$n.show_protocols$S.txt
  b $n show protocols all > $O/$n.show_protocols_all$S.txt
  b $n show route all > $O/$n.show_route_all_default_tables$S.txt; b $n show route table master4 all > $O/$n.show_route_table_master4_all$S.txt
  b $n show route > $O/$n.show_route_default_tables$S.txt; b $n show route count > $O/$n.show_route_count$S.txt; b $n show mpls ranges > $O/$n.show_mpls_ranges$S.txt 2>&1
  b $n show route table mtab all > $O/$n.show_route_table_mtab_all$S.txt
  b $n show route table mtab > $O/$n.show_route_table_mtab$S.txt
  b $n show route table all > $O/$n.show_route_table_all$S.txt 2>&1
  case $n in pe*)
    b $n show route table vpntab all > $O/$n.show_route_table_vpntab_all$S.txt
    b $n show route table vpntab > $O/$n.show_route_table_vpntab$S.txt
    b $n show route table vrf_cust all > $O/$n.show_route_table_vrf_cust_all$S.txt
    b $n show route table vrf_cust > $O/$n.show_route_table_vrf_cust$S.txt
  esac
done
