package calculon.hardware;

import calculon.config.Datatype;
import calculon.config.ProcessingMode;
import calculon.config.SystemSpec;
import java.util.List;

/** A system fixed to one datatype: what the model asks of the hardware. Immutable; build once per (system, datatype). */
public final class Hardware {
  private final SystemSpec spec;
  private final Datatype datatype;
  private final Processor matrix;
  private final Processor vector;
  private final Memory mem1;
  private final Memory mem2;
  private final boolean roofline;
  private final Network[] networks;

  public Hardware(SystemSpec spec, Datatype datatype) {
    this.spec = spec;
    this.datatype = datatype;
    SystemSpec.ComputeRate m = spec.matrix().get(datatype);
    SystemSpec.ComputeRate v = spec.vector().get(datatype);
    if (m == null || v == null) {
      throw new IllegalArgumentException("datatype " + datatype.jsonName + " missing from the system (validation should have caught this)");
    }
    this.matrix = new Processor(m);
    this.vector = new Processor(v);
    this.mem1 = new Memory(spec.mem1());
    this.mem2 = new Memory(spec.mem2());
    this.roofline = spec.processingMode() == ProcessingMode.ROOFLINE;
    List<SystemSpec.NetworkSpec> nets = spec.networks();
    this.networks = new Network[nets.size()];
    for (int i = 0; i < networks.length; i++) {
      networks[i] = new Network(i, nets.get(i));
    }
  }

  public SystemSpec spec() { return spec; }

  public Datatype datatype() { return datatype; }

  public double bytesPerElement() { return datatype.bytesPerElement; }

  public Processor matrix() { return matrix; }

  public Processor vector() { return vector; }

  public Memory mem1() { return mem1; }

  public Memory mem2() { return mem2; }

  public int numNetworks() { return networks.length; }

  public Network network(int tier) { return networks[tier]; }

  /** Combines compute and memory time by the system's processing mode. */
  public double processingTime(double flopsSeconds, double memSeconds) {
    return roofline ? Math.max(flopsSeconds, memSeconds) : flopsSeconds + memSeconds;
  }

  /** Seconds to move {@code bytes} to or from the second memory tier. */
  public double offloadTime(double bytes) {
    return mem2.time(bytes);
  }
}
