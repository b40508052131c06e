package hg.api.internal;

import hg.host.Machines.Info;
import java.util.List;
import java.util.function.ToLongFunction;

/** GET /metrics: the VMs in Prometheus' text format 0.0.4. */
public final class Metrics {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private record PerVm(String name, String type, String help, ToLongFunction<Info> value) {}

    private static final List<PerVm> PER_VM = List.of(
            new PerVm("hyper_gen_vm_vcpu_exits_total", "counter", "Exits of the VM's vCPUs to the VMM.",
                    vm -> vm.counters().vcpuExits()),
            new PerVm("hyper_gen_vm_disk_read_bytes_total", "counter", "Bytes the guest read from its disks.",
                    vm -> vm.counters().diskReadBytes()),
            new PerVm("hyper_gen_vm_disk_write_bytes_total", "counter", "Bytes the guest wrote to its disks.",
                    vm -> vm.counters().diskWriteBytes()),
            new PerVm("hyper_gen_vm_net_rx_bytes_total", "counter", "Bytes the network card delivered to the guest.",
                    vm -> vm.counters().netRxBytes()),
            new PerVm("hyper_gen_vm_net_tx_bytes_total", "counter", "Bytes the guest sent through its network card.",
                    vm -> vm.counters().netTxBytes()),
            new PerVm("hyper_gen_vm_memory_bytes", "gauge", "The guest's memory.", Info::memoryBytes));

    private Metrics() {}

    public static String render(List<Info> vms) {
        StringBuilder out = new StringBuilder();
        out.append("# HELP hyper_gen_vms VMs by state.\n# TYPE hyper_gen_vms gauge\n");
        for (String state : List.of("running", "paused", "stopped")) {
            long n = vms.stream().filter(vm -> InfoJson.stateName(vm.state()).equals(state)).count();
            out.append("hyper_gen_vms{state=\"").append(state).append("\"} ").append(n).append('\n');
        }
        for (PerVm m : PER_VM) {
            out.append("# HELP ").append(m.name()).append(' ').append(m.help()).append('\n');
            out.append("# TYPE ").append(m.name()).append(' ').append(m.type()).append('\n');
            for (Info vm : vms) {
                out.append(m.name()).append("{vm=\"").append(vm.id()).append("\"} ")
                        .append(m.value().applyAsLong(vm)).append('\n');
            }
        }
        return out.toString();
    }
}
