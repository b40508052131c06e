package hg.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hg.host.Machines.Counters;
import hg.host.Machines.Info;
import hg.host.Machines.State;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void countsByStateAndCountersPerVm() {
        Info one = new Info(1, Path.of("/k"), List.of(), 1, 64L << 20, new State.Running(), Duration.ZERO, "-",
                new Counters(10, 20, 30, 40, 50));
        Info two = new Info(2, Path.of("/k"), List.of(), 1, 32L << 20, new State.Stopped("destroyed"), Duration.ZERO, "-");
        assertEquals("""
                # HELP hyper_gen_vms VMs by state.
                # TYPE hyper_gen_vms gauge
                hyper_gen_vms{state="running"} 1
                hyper_gen_vms{state="paused"} 0
                hyper_gen_vms{state="stopped"} 1
                # HELP hyper_gen_vm_vcpu_exits_total Exits of the VM's vCPUs to the VMM.
                # TYPE hyper_gen_vm_vcpu_exits_total counter
                hyper_gen_vm_vcpu_exits_total{vm="1"} 10
                hyper_gen_vm_vcpu_exits_total{vm="2"} 0
                # HELP hyper_gen_vm_disk_read_bytes_total Bytes the guest read from its disks.
                # TYPE hyper_gen_vm_disk_read_bytes_total counter
                hyper_gen_vm_disk_read_bytes_total{vm="1"} 20
                hyper_gen_vm_disk_read_bytes_total{vm="2"} 0
                # HELP hyper_gen_vm_disk_write_bytes_total Bytes the guest wrote to its disks.
                # TYPE hyper_gen_vm_disk_write_bytes_total counter
                hyper_gen_vm_disk_write_bytes_total{vm="1"} 30
                hyper_gen_vm_disk_write_bytes_total{vm="2"} 0
                # HELP hyper_gen_vm_net_rx_bytes_total Bytes the network card delivered to the guest.
                # TYPE hyper_gen_vm_net_rx_bytes_total counter
                hyper_gen_vm_net_rx_bytes_total{vm="1"} 40
                hyper_gen_vm_net_rx_bytes_total{vm="2"} 0
                # HELP hyper_gen_vm_net_tx_bytes_total Bytes the guest sent through its network card.
                # TYPE hyper_gen_vm_net_tx_bytes_total counter
                hyper_gen_vm_net_tx_bytes_total{vm="1"} 50
                hyper_gen_vm_net_tx_bytes_total{vm="2"} 0
                # HELP hyper_gen_vm_memory_bytes The guest's memory.
                # TYPE hyper_gen_vm_memory_bytes gauge
                hyper_gen_vm_memory_bytes{vm="1"} 67108864
                hyper_gen_vm_memory_bytes{vm="2"} 33554432
                """, Metrics.render(List.of(one, two)));
    }
}
